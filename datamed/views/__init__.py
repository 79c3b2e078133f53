"""Read side: queries behind the pages, over prepared data through the Store (never imports pipeline or release)."""
