// Copies the vendored front-end files into the repository and draws the border map's data.
// Run by `make vendor` after `npm ci`; its outputs are committed, so neither `make run` nor
// CI needs Node. Why each file: chart.js draws the dashboard's charts; axe-core is the
// browser tests' accessibility check (never served); world-atlas (Natural Earth 1:50m,
// public domain) gives the outlines of the six participants and their neighbours.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { feature } from "topojson-client";

const root = new URL("../", import.meta.url).pathname;
const modules = new URL("./node_modules/", import.meta.url).pathname;

function copy(from, to) {
  mkdirSync(root + to.substring(0, to.lastIndexOf("/")), { recursive: true });
  copyFileSync(modules + from, root + to);
  console.log(`vendored ${from} -> ${to}`);
}

copy("chart.js/dist/chart.umd.min.js", "gateway/web/static/vendor/chart.umd.min.js");
copy("chart.js/LICENSE.md", "gateway/web/static/vendor/chart.js.LICENSE.md");
copy("axe-core/axe.min.js", "tests/browser/vendor/axe.min.js");
copy("axe-core/LICENSE", "tests/browser/vendor/axe-core.LICENSE");
// The AsyncAPI 3.0 JSON Schema: the tests validate `wbx schemas asyncapi` against it.
copy("@asyncapi/specs/schemas/3.0.0-without-$id.json", "tests/fixtures/asyncapi/asyncapi-3.0.0.schema.json");
copy("@asyncapi/specs/LICENSE", "tests/fixtures/asyncapi/LICENSE");

// The map: an equirectangular projection scaled by cos(43°N), 100 units a degree of
// latitude, over 15.5-23.5°E and 39.5-46.5°N. Coordinates are rounded to 0.1 unit (about
// 100 m), which keeps the file small and is far finer than the map is ever drawn.
const WEST = 15.5, EAST = 23.5, SOUTH = 39.5, NORTH = 46.5, K = 100;
const COS = Math.cos((43 * Math.PI) / 180);
const NAMES = {
  Albania: "AL", "Bosnia and Herz.": "BA", Kosovo: "XK", Montenegro: "ME",
  Macedonia: "MK", Serbia: "RS", Croatia: "HR", Hungary: "HU", Romania: "RO",
  Bulgaria: "BG", Greece: "GR", Italy: "IT", Slovenia: "SI",
};
const x = (lon) => Math.round((lon - WEST) * COS * K * 10) / 10;
const y = (lat) => Math.round((NORTH - lat) * K * 10) / 10;

function ring(points) {
  const out = [];
  for (const [lon, lat] of points) {
    const p = `${x(lon)} ${y(lat)}`;
    if (out[out.length - 1] !== p) out.push(p);
  }
  return out.length > 3 ? "M" + out.join("L") + "Z" : "";
}

const atlas = JSON.parse(readFileSync(modules + "world-atlas/countries-50m.json", "utf8"));
const countries = {};
for (const shape of feature(atlas, atlas.objects.countries).features) {
  const code = NAMES[shape.properties.name];
  if (!code) continue;
  const polygons = shape.geometry.type === "Polygon"
    ? [shape.geometry.coordinates] : shape.geometry.coordinates;
  const near = polygons.filter((rings) => rings[0].some(
    ([lon, lat]) => lon > WEST - 2 && lon < EAST + 2 && lat > SOUTH - 2 && lat < NORTH + 2));
  countries[code] = near.map((rings) => rings.map(ring).join("")).join("");
}
const map = {
  source: "Natural Earth 1:50m via world-atlas 2.0.2 (public domain)",
  projection: { west: WEST, north: NORTH, cos: COS, k: K },
  width: x(EAST), height: y(SOUTH), countries,
};
writeFileSync(root + "gateway/web/map.json", JSON.stringify(map) + "\n");
console.log(`drew gateway/web/map.json (${Object.keys(countries).length} countries)`);
