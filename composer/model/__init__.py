"""The typed, frozen project model and the label keys composer writes."""
