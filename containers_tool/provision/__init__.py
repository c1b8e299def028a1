"""From a purpose to a ready container: purposes, images, credentials, the plan and its steps."""
