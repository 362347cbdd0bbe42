"""What every page shares: the cached engine and queries, the sidebar filters, Chinese formatting.

Pages import from here; nothing here computes a rate (metrics/) or writes SQL (store/).
"""
