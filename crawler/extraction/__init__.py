"""Page bytes to article fields, with limits, and extraction quality evaluation."""
