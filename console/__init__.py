"""The local web console (placeholder: helper E's branch brings the package and `cli.register`)."""
