"""Small datasets from R's metadat package, typed in for tests that do not read a JSON reference.

Values as printed by ``metadat::dat.bcg`` (metadat 1.2-0): BCG vaccine trials (Colditz et al.
1994); ``ai, bi, ci, di`` are metadat's ``tpos, tneg, cpos, cneg``.
"""

import pandas as pd

BCG = pd.DataFrame(
    {
        "study": ["Aronson 1948", "Ferguson & Simes 1949", "Rosenthal et al 1960",
                  "Hart & Sutherland 1977", "Frimodt-Moller et al 1973", "Stein & Aronson 1953",
                  "Vandiviere et al 1973", "TPT Madras 1980", "Coetzee & Berjak 1968",
                  "Rosenthal et al 1961", "Comstock et al 1974", "Comstock & Webster 1969",
                  "Comstock et al 1976"],
        "year": [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976],
        "ai": [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
        "bi": [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
        "ci": [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
        "di": [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
    }
)
