"""flannot.io."""
