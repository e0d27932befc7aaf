"""Pipeline stages, each a small function of arrays (or of rows through their input
adapter): bandwidth, seeding, compression, merge, labels."""
