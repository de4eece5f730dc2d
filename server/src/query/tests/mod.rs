//! Tests of the whole parser (pattern details are tested beside the code).
