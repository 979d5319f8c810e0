import { ByteWriter, type ByteReader } from '../bytes.js';
import { fail, Jt808EncodeError } from '../decode-error.js';
import { LOCATION_BASE_BYTES, readLocationFrom, writeLocation, type LocationBody } from './location.js';

/** 0x0704 定位数据批量上传 (domain.md §5.3). */
export interface LocationBatchBody {
  /** 0 normal batch, 1 blind-area re-upload (盲区补报); see `BATCH_TYPE`. */
  dataType: number;
  /** The items; their count is written from the array length. */
  locations: LocationBody[];
}

/** count WORD, data_type BYTE, then count × { len WORD, 0x0200 body[len] }. */
export function readLocationBatch(r: ByteReader): LocationBatchBody {
  const count = r.u16('count');
  const dataType = r.u8('data_type');
  const locations: LocationBody[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.u16(`item ${i} length`);
    if (len < LOCATION_BASE_BYTES) fail('bad_length', `0x0704 item ${i}: length ${len}, a 0x0200 body has at least ${LOCATION_BASE_BYTES} bytes`);
    locations.push(readLocationFrom(r.bytes(len, `item ${i} body`), `0x0704 item ${i}`));
  }
  if (r.remaining > 0) fail('bad_length', `0x0704 body: ${r.remaining} bytes left after the ${count} items count announces`);
  return { dataType, locations };
}

export function writeLocationBatch(w: ByteWriter, b: LocationBatchBody): void {
  w.u16(b.locations.length, 'count').u8(b.dataType, 'data_type');
  for (const loc of b.locations) {
    const item = new ByteWriter(64);
    writeLocation(item, loc);
    if (item.length > 0xffff) throw new Jt808EncodeError(`0x0704 item is ${item.length} bytes, its length WORD holds 65535`);
    w.u16(item.length, 'item length').bytes(item.toBuffer());
  }
}
