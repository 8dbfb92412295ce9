package org.robustflow.data;

import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A decoder that refuses any length or item count larger than the message it reads, before anything
 * is allocated. Avro itself allocates what a length prefix declares (up to 2 GB), so a few corrupt
 * bytes in a Kafka message could otherwise exhaust the heap of the job.
 *
 * <p>Sound for our schemas: every string byte, bytes byte and array item takes at least one byte of
 * the message, so no valid message declares more than its own length.
 */
final class BoundedDecoder extends Decoder {
    private final Decoder in;
    private final long limit;

    BoundedDecoder(Decoder in, long limit) {
        this.in = in;
        this.limit = limit;
    }

    private long check(long length, String what) throws IOException {
        if (length < 0 || length > limit) {
            throw new IOException(
                    what + " of length " + length + " in a message of " + limit + " bytes");
        }
        return length;
    }

    /** A block count: negative counts are followed by the block's size in bytes. */
    private long blockCount(String what) throws IOException {
        long n = in.readLong();
        if (n < 0) {
            if (n == Long.MIN_VALUE) {
                throw new IOException(what + " with an invalid item count");
            }
            n = -n;
            in.readLong();
        }
        return check(n, what);
    }

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        int length = (int) check(in.readLong(), "a string");
        Utf8 result = old != null ? old : new Utf8();
        result.setByteLength(length);
        if (length > 0) {
            in.readFixed(result.getBytes(), 0, length);
        }
        return result;
    }

    @Override
    public String readString() throws IOException {
        return readString(null).toString();
    }

    @Override
    public void skipString() throws IOException {
        in.skipFixed((int) check(in.readLong(), "a string"));
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        int length = (int) check(in.readLong(), "bytes");
        byte[] bytes = new byte[length];
        in.readFixed(bytes, 0, length);
        return ByteBuffer.wrap(bytes);
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipFixed((int) check(in.readLong(), "bytes"));
    }

    @Override
    public void readFixed(byte[] bytes, int start, int length) throws IOException {
        in.readFixed(bytes, start, length);
    }

    @Override
    public void skipFixed(int length) throws IOException {
        in.skipFixed(length);
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public long readArrayStart() throws IOException {
        return blockCount("an array");
    }

    @Override
    public long arrayNext() throws IOException {
        return blockCount("an array");
    }

    @Override
    public long skipArray() throws IOException {
        // Only resolving decoders skip (fields the reader does not know); items are read then.
        return blockCount("an array");
    }

    @Override
    public long readMapStart() throws IOException {
        return blockCount("a map");
    }

    @Override
    public long mapNext() throws IOException {
        return blockCount("a map");
    }

    @Override
    public long skipMap() throws IOException {
        return blockCount("a map");
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }
}
