# downloader fragment (filled in by its own change).
