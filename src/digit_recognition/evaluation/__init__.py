"""The evaluation (the `evaluate` command, cli.py): what a robot receives from the digit
reader under simulated camera conditions and on labelled real photos."""
