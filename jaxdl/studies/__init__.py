"""Studies: many runs trained into one table (comparisons, split-seed tables, ensembles, the
scikit-learn reference rows)."""
