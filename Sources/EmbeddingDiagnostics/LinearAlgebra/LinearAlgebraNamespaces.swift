/// LAPACK decompositions through LAPACKE (`LAPACK.symmetricEigen`, `LAPACK.singularValueDecomposition`, …).
public enum LAPACK {}

/// Comparisons of two paired embedding spaces: CKA, Procrustes, k-NN overlap (see CKA.swift).
public enum SpaceComparison {}

/// Ranks of relevant gallery rows for query rows, tie-aware (`Retrieval.retrievalRanks`, `Retrieval.trueMatchRanks`).
public enum Retrieval {}
