"""Learning: the Keras networks, their losses and the resumable training loop."""
