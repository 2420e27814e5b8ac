"""Presentation shared by every page: one Babel formatter, form-error presentation, template tags."""
