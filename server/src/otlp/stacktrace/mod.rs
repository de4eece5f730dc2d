//! Stack trace strings (`exception.stacktrace`) parsed into frames, per language.
