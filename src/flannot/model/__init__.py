"""flannot.model."""
