//! The one search language (issue list, JSON API, saved searches, alert filters).
