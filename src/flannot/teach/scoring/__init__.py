"""Building blocks of :mod:`flannot.teach.score`: matching, region overlap, trainee messages."""
