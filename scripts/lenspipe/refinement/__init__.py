"""CNN-seeded lens modelling: test lenses (or images of your own) fitted from the CNN's
calibrated predictions, chunk by chunk."""
