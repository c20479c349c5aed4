// The @ipld/car indexer's time on one CAR (for apps/car/bench/run.sh):
// walks every section with CarIndexer and collects (multihash, offset) the
// way an index builder would, then sorts by multihash bytes.
//   node bench-index.mjs FILE.car   -> prints "records N"
import fs from 'node:fs'
import { CarIndexer } from '@ipld/car/indexer'

const path = process.argv[2]
const indexer = await CarIndexer.fromIterable(fs.createReadStream(path, { highWaterMark: 1 << 20 }))
const records = []
for await (const b of indexer) {
  if (b.cid.multihash.code === 0) continue
  records.push({ mh: b.cid.multihash.bytes, offset: b.offset })
}
records.sort((a, b) => Buffer.compare(a.mh, b.mh))
process.stdout.write(`records ${records.length}\n`)
