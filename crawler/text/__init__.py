"""Text: decoding, legacy Vietnamese fonts, cleaning, datelines, dates, bylines."""
