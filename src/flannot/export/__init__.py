"""flannot.export."""
