"""Reading finished runs back: restore a run's state (`saved`), evaluate it again, ensembles of runs,
the word vectors a text model learned, text from a language model."""
