"""Place names (地名): road names in use, naming proposals, the heritage protection list and name rules."""
