"""Statistical core of the analysis (domain.md §8): pure functions on pandas DataFrames.

Nothing here touches Flask or the session except `data.py` (reading) and `synthetic.insert_results`
(writing demo and test data). Every threshold comes from `thresholds.load_thresholds()`.
"""
