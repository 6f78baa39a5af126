"""lenspipe: mock strong-lens images with lenstronomy, stored in zarr, read back by a Keras CNN."""

from lenspipe import quiet_tensorflow

__version__ = "0.1.0"

quiet_tensorflow.install()
