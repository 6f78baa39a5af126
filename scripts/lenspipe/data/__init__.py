"""Data: chunk files, the zarr store, the split, MinMax normalisation and the batches that feed training."""
