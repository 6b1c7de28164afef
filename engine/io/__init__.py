"""Reading community data: readers, header matching, cell conversion."""
