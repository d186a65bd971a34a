"""Pure metric functions returning frozen *Result dataclasses with ``to_dict()``."""
