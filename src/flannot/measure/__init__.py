"""flannot.measure."""
