// Every test's seeded generator is the toolkit's own (EntropyCoding/SplitMix64.swift).
@_exported import struct EntropyCoding.SplitMix64
