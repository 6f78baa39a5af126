"""Keep TensorFlow within the cores a job was given."""

import tensorflow as tf


def limit_tensorflow_threads(threads: int) -> None:
    """Run TensorFlow's operations on at most ``threads`` cores.

    Without this TensorFlow sizes its thread pools by the cores of the whole machine, which on
    a shared cluster node oversubscribes the cores the scheduler granted. Call it before the
    first TensorFlow operation.
    """
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
