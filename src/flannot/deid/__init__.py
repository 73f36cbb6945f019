"""flannot.deid."""
