// Lists a CAR with @ipld/car's CarIndexer (an implementation independent of
// boltpp): "version V", "root CID" lines, then one line per block:
//   CID OFFSET LENGTH BLOCK_OFFSET BLOCK_LENGTH SHA256(BLOCK)
// Offsets are absolute file offsets (OFFSET at the section's length varint).
//   node list.mjs FILE.car
import fs from 'node:fs'
import { createHash } from 'node:crypto'
import { CarIndexer } from '@ipld/car/indexer'

const path = process.argv[2]
const indexer = await CarIndexer.fromIterable(fs.createReadStream(path, { highWaterMark: 1 << 20 }))
const fd = fs.openSync(path, 'r')
const lines = [`version ${indexer.version}`]
for (const root of await indexer.getRoots()) lines.push(`root ${root}`)
for await (const b of indexer) {
  const block = Buffer.alloc(b.blockLength)
  fs.readSync(fd, block, 0, b.blockLength, b.blockOffset)
  const digest = createHash('sha256').update(block).digest('hex')
  lines.push(`${b.cid} ${b.offset} ${b.length} ${b.blockOffset} ${b.blockLength} ${digest}`)
}
process.stdout.write(lines.join('\n') + '\n')
