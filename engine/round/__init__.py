"""An assessment round (docs/round.md): the roster of expected communities
(`roster`), one collection workbook per unit stamped with the model
(`forms`), the folder of returns read with completeness (`returns`), and the
feedback workbooks sent back for correction (`feedback`)."""
