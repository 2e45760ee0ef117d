// webview entry (placeholder until the UI issue lands)
