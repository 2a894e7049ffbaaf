"""State machines declared as data (one module per workflow) and the single engine that fires them."""
