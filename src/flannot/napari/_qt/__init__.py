"""Qt dock widgets of the flannot napari plugin."""
