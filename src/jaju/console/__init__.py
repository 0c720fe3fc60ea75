"""The web console: a static, bilingual (Korean and English) client of jaju's public API."""
