"""Property-based fuzzing of every parser of server data and every user input path."""
