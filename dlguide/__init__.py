"""dlguide: runnable reference implementations behind the dlguide book.

Each module matches a chapter: the from-scratch NumPy code the chapter teaches, written to be
read, and tested against TensorFlow/Keras. Import the module you need, for example
``from dlguide import neurons``.
"""

__version__ = "0.1.0"
