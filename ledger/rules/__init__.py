"""The rules, one module per family of entries. Each handler checks everything first and
raises ``RuleBroken``, then changes the book; a broken rule leaves the book untouched."""
