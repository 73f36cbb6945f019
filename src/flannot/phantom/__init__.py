"""flannot.phantom."""
