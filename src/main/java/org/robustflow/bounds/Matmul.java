package org.robustflow.bounds;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * C = A B on BLAS (double) for a Java array A and a shared ND4J matrix, by one {@code cblas_dgemm}
 * call on per-thread native operand buffers.
 *
 * <p>Straight to OpenBLAS (the library ND4J itself calls), not through ND4J's {@code mmul}: ND4J
 * spends 50-100 us of fixed cost per call building an op, while branch and bound and the batched
 * bounds make many products of a few rows (measured here: a [1 x 50] x [50 x 784] product in 40 us
 * against 146 us). The call is the one ND4J made, C^T = B^T A^T in column-major order, with A
 * row-major read as A^T and C^T written as C row-major, so the results are the same to the bit.
 */
public final class Matmul {
    /** Per-thread native copies of A and C, grown as needed. */
    private static final class Buffers {
        DoublePointer a = new DoublePointer(0L);
        DoublePointer c = new DoublePointer(0L);

        DoublePointer a(long size) {
            if (a.capacity() < size) {
                a.close();
                a = new DoublePointer(Math.max(size, 2 * a.capacity()));
            }
            return a;
        }

        DoublePointer c(long size) {
            if (c.capacity() < size) {
                c.close();
                c = new DoublePointer(Math.max(size, 2 * c.capacity()));
            }
            return c;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private Matmul() {}

    /**
     * @param a A, [m, k] row-major
     * @param bTransposed B^T, [n, k], row-major ('c') and double
     * @return C = A B, [m, n] row-major
     */
    public static double[] multiply(double[] a, int m, INDArray bTransposed) {
        int n = (int) bTransposed.size(0);
        int k = (int) bTransposed.size(1);
        if (a.length != m * k) {
            throw new IllegalArgumentException(
                    "A has " + a.length + " values, expected " + m + "x" + k);
        }
        if (bTransposed.dataType() != DataType.DOUBLE
                || bTransposed.ordering() != 'c'
                || bTransposed.offset() != 0
                || !bTransposed.isMatrix()
                || bTransposed.data().length() < (long) n * k) {
            throw new IllegalArgumentException(
                    "B^T must be a dense row-major double matrix, was "
                            + bTransposed.shapeInfoToString());
        }
        if (m == 0 || n == 0) {
            return new double[0];
        }
        double[] c = new double[m * n];
        if (k == 0) {
            return c;
        }
        Buffers buf = BUFFERS.get();
        DoublePointer aT = buf.a(a.length);
        DoublePointer cT = buf.c(c.length);
        aT.put(a, 0, a.length);
        DoublePointer b = new DoublePointer(bTransposed.data().addressPointer());
        // Column-major: C^T [n, m] = (B^T) [n, k] x A^T [k, m]; B^T row-major is (B^T)^T column-
        // major, hence Trans with leading dimension k.
        openblas_nolapack.cblas_dgemm(
                openblas_nolapack.CblasColMajor,
                openblas_nolapack.CblasTrans,
                openblas_nolapack.CblasNoTrans,
                n,
                m,
                k,
                1.0,
                b,
                k,
                aT,
                k,
                0.0,
                cT,
                n);
        cT.get(c, 0, c.length);
        return c;
    }
}
