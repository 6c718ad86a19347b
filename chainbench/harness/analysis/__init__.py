"""What a results folder says: power-law and cost fits (``fits``) and the tables read from
its points (``tables``: exponents, crossovers, prediction errors, regrets, the tally)."""
