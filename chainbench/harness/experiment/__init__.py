"""What an experiment asks for: its TOML read and checked into points (``config``), the
number syntax it accepts (``numbers``) and the chain templates it may name (``templates``)."""
