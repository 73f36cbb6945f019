"""flannot.teach."""
