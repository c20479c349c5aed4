// Writes a CARv1 with @ipld/car's CarWriter: COUNT raw blocks (sha2-256,
// CIDv1) of pseudo-random bytes from SEED, the first block as the root.
//   node write.mjs OUT.car COUNT SEED
import fs from 'node:fs'
import { Readable } from 'node:stream'
import { CarWriter } from '@ipld/car/writer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

const [out, countText, seedText] = process.argv.slice(2)
let state = BigInt(seedText) & 0xffffffffffffffffn
const next = () => { // splitmix64
  state = (state + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn
  let z = state
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn
  return z ^ (z >> 31n)
}
const blocks = []
for (let i = 0; i < Number(countText); i++) {
  const bytes = new Uint8Array(1 + Number(next() % 3000n))
  for (let j = 0; j < bytes.length; j++) bytes[j] = Number(next() & 0xffn)
  blocks.push({ cid: CID.create(1, raw.code, await sha256.digest(bytes)), bytes })
}
const { writer, out: carOut } = CarWriter.create([blocks[0].cid])
const done = new Promise((resolve, reject) => {
  Readable.from(carOut).pipe(fs.createWriteStream(out)).on('finish', resolve).on('error', reject)
})
for (const b of blocks) await writer.put(b)
await writer.close()
await done
