//! Ferry's built-in connectors that are not part of MirrorMaker 2.
