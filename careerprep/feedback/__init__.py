"""Answer feedback computed on the server: which key points a draft covers, and plain-words insights."""
