"""lenspipe: mock strong-lens images with lenstronomy, stored in zarr, read back by a Keras CNN."""

__version__ = "0.1.0"
